//! Certificates made by a test, with [rcgen](https://docs.rs/rcgen): a CA, a server
//! certificate for `localhost` and `127.0.0.1`, and a client certificate, all signed by it.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its private key, as PEM text.
#[derive(Debug, Clone)]
pub struct Pem {
    /// The certificate.
    pub cert: String,
    /// Its private key (PKCS#8).
    pub key: String,
}

/// A CA and the two certificates it signed.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA's certificate and key.
    pub ca: Pem,
    /// For `localhost` and `127.0.0.1`, for serving.
    pub server: Pem,
    /// For a client (`CN=test client`).
    pub client: Pem,
}

impl Pki {
    /// A new CA named `name`, and a server and a client certificate signed by it.
    pub fn new(name: &str) -> Pki {
        let ca_key = KeyPair::generate().expect("key generation");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, name);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca_params.self_signed(&ca_key).expect("self-signed CA");

        let leaf = |sans: Vec<String>, cn: &str, usage: ExtendedKeyUsagePurpose| {
            let key = KeyPair::generate().expect("key generation");
            let mut params = CertificateParams::new(sans).expect("leaf params");
            params.distinguished_name.push(DnType::CommonName, cn);
            params.use_authority_key_identifier_extension = true;
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            params.extended_key_usages = vec![usage];
            let cert = params
                .signed_by(&key, &ca, &ca_key)
                .expect("signing a certificate");
            Pem {
                cert: cert.pem(),
                key: key.serialize_pem(),
            }
        };
        let server = leaf(
            vec!["localhost".into(), "127.0.0.1".into()],
            "test server",
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let client = leaf(
            vec!["client.test".into()],
            "test client",
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            ca: Pem {
                cert: ca.pem(),
                key: ca_key.serialize_pem(),
            },
            server,
            client,
        }
    }
}
