"""Plug-in CA material: chains Istio accepts, and each way material can be unusable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest
from cryptography import x509

from ansible_collections.multimesh.istio.plugins.module_utils import plugin_ca as ca


@pytest.fixture(scope="module")
def root():
    return ca.new_root("Root CA", "Istio", 3650, 2048)


@pytest.fixture(scope="module")
def entries(root):
    key, cert = ca.new_intermediate(root[0], root[1], "cluster-1", "istio-system", "Istio", 730, 2048)
    return ca.cacerts(key, cert, root[1])


def test_chain_is_what_istiod_expects(entries):
    assert ca.verify(entries) == []
    cert = x509.load_pem_x509_certificate(entries["ca-cert.pem"])
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["istiod.istio-system.svc"]
    assert cert.subject.rfc4514_string() == "CN=Intermediate CA,L=cluster-1,O=Istio"
    chain = x509.load_pem_x509_certificates(entries["cert-chain.pem"])
    assert [c.subject.rfc4514_string() for c in chain] == ["CN=Intermediate CA,L=cluster-1,O=Istio", "CN=Root CA,O=Istio"]
    root = x509.load_pem_x509_certificate(entries["root-cert.pem"])
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length is None
    assert 725 <= ca.days_left(entries["ca-cert.pem"]) <= 730


def test_clusters_of_one_mesh_share_the_root_meshes_do_not(root, entries):
    key, cert = ca.new_intermediate(root[0], root[1], "cluster-2", "istio-system", "Istio", 730, 2048)
    assert ca.same_root(ca.cacerts(key, cert, root[1])["root-cert.pem"], entries["root-cert.pem"])
    other = ca.new_root("Root CA", "Istio", 3650, 2048)
    assert not ca.same_root(other[1], entries["root-cert.pem"])


def expired_root():
    import datetime

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import Encoding

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "Old Root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=10)).not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.PEM)


def test_broken_material_is_reported(root, entries):
    other_root = ca.new_root("Other Root", "Istio", 3650, 2048)
    other_key, other_cert = ca.new_intermediate(other_root[0], other_root[1], "x", "istio-system", "Istio", 30, 2048)
    assert ca.verify(dict(entries, **{"ca-key.pem": other_key})) == ["ca-key.pem does not belong to ca-cert.pem"]
    assert "ca-cert.pem is not signed by root-cert.pem" in ca.verify(dict(entries, **{"root-cert.pem": other_root[1]}))
    assert ca.verify(dict(entries, **{"cert-chain.pem": entries["ca-cert.pem"]})) == [
        "cert-chain.pem is not ca-cert.pem followed by root-cert.pem"]
    assert any(p.startswith("root-cert.pem expired on") for p in ca.verify(dict(entries, **{"root-cert.pem": expired_root()})))
    assert ca.verify({"ca-cert.pem": b"garbage"})[0].startswith("cannot read the material")


def test_intermediate_never_outlives_its_root():
    short_root = ca.new_root("Short Root", "Istio", 10, 2048)
    _key, cert = ca.new_intermediate(short_root[0], short_root[1], "z", "istio-system", "Istio", 730, 2048)
    assert ca.expiry(cert) == ca.expiry(short_root[1])
