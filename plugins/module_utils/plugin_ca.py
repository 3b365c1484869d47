# Copyright: multimesh.istio contributors
# Apache License 2.0 (see LICENSE or https://www.apache.org/licenses/LICENSE-2.0)
"""Plug-in CA material for Istio (the `cacerts` secret): one root, one intermediate per cluster or mesh, made with
`cryptography` the way Istio's tools/certs Makefiles make them. Pure functions over PEM bytes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_CRYPTOGRAPHY = False

CACERTS_KEYS = ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")


class PluginCAError(Exception):
    pass


# RSA keys below this size are refused (NIST SP 800-131A: 2048 bits at least).
MINIMUM_KEY_SIZE = 2048


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _key(size):
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def _pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(org, common_name, locality=None):
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if locality:
        attrs.insert(1, x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    return x509.Name(attrs)


def _ca_usage():
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                         key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False)


def new_root(common_name="Root CA", org="Istio", days=3650, key_size=4096):
    """(key_pem, cert_pem) of a self-signed root CA."""
    key = _key(key_size)
    subject = _name(org, common_name)
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _pem_key(key), _pem_cert(cert)


def new_intermediate(root_key_pem, root_cert_pem, name, istio_namespace="istio-system", org="Istio", days=730, key_size=4096):
    """(key_pem, cert_pem) of an intermediate CA for istiod: may sign workload certificates, not other CAs (path
    length 0), names the cluster/mesh in L= as Istio's Makefiles do, and istiod's service DNS name as SAN."""
    root_key = serialization.load_pem_private_key(root_key_pem, password=None)
    root_cert = x509.load_pem_x509_certificate(root_cert_pem)
    key = _key(key_size)
    now = _now()
    not_after = min(now + datetime.timedelta(days=days), root_cert.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(_name(org, "Intermediate CA", name)).issuer_name(root_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_usage(), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("istiod.{0}.svc".format(istio_namespace))]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    return _pem_key(key), _pem_cert(cert)


def cacerts(ca_key_pem, ca_cert_pem, root_cert_pem):
    """The four entries of the `cacerts` secret istiod reads."""
    return {"ca-cert.pem": ca_cert_pem, "ca-key.pem": ca_key_pem, "root-cert.pem": root_cert_pem,
            "cert-chain.pem": ca_cert_pem + root_cert_pem}


def verify(entries):
    """Problems with cacerts material ([] when istiod can use it): the key matches the certificate, the intermediate
    is signed by the root, both are CAs, the chain is intermediate then root, nothing has expired."""
    problems = []
    try:
        ca = x509.load_pem_x509_certificate(entries["ca-cert.pem"])
        root = x509.load_pem_x509_certificate(entries["root-cert.pem"])
        key = serialization.load_pem_private_key(entries["ca-key.pem"], password=None)
        chain = x509.load_pem_x509_certificates(entries["cert-chain.pem"])
    except (KeyError, ValueError) as exc:
        return ["cannot read the material: {0}".format(exc)]
    if key.public_key().public_numbers() != ca.public_key().public_numbers():
        problems.append("ca-key.pem does not belong to ca-cert.pem")
    try:
        root.public_key().verify(ca.signature, ca.tbs_certificate_bytes, padding.PKCS1v15(), ca.signature_hash_algorithm)
    except Exception:
        problems.append("ca-cert.pem is not signed by root-cert.pem")
    for label, cert in (("ca-cert.pem", ca), ("root-cert.pem", root)):
        try:
            if not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                problems.append("{0} is not a CA certificate".format(label))
        except x509.ExtensionNotFound:
            problems.append("{0} has no basicConstraints".format(label))
        if cert.not_valid_after_utc <= _now():
            problems.append("{0} expired on {1}".format(label, cert.not_valid_after_utc.date()))
    if [c.fingerprint(hashes.SHA256()) for c in chain] != [c.fingerprint(hashes.SHA256()) for c in (ca, root)]:
        problems.append("cert-chain.pem is not ca-cert.pem followed by root-cert.pem")
    return problems


def expiry(cert_pem):
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.not_valid_after_utc


def days_left(cert_pem):
    return (expiry(cert_pem) - _now()).days


def same_root(cert_pem_a, cert_pem_b):
    a, b = x509.load_pem_x509_certificate(cert_pem_a), x509.load_pem_x509_certificate(cert_pem_b)
    return a.fingerprint(hashes.SHA256()) == b.fingerprint(hashes.SHA256())
