# Offline stand-in for get-pip.py, used by ansible-test to bootstrap pip in the virtual environments
# of its sanity tests: ensurepip installs the bundled pip, then pip installs the requested packages.
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
