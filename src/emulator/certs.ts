import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

/** PEM material for the emulator's HTTPS listener and the CA clients must trust. */
export interface TlsMaterial {
  caPem: string;
  caFile: string;
  certPem: string;
  keyPem: string;
}

// Keys come from node's native generator: node-forge's pure-JS RSA keygen takes seconds, but
// forge is still the simplest way to build the X.509 structures around a native key.
function rsaKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicPem: publicKey, privatePem: privateKey };
}

function serial(): string {
  // A positive serial: clear the top bit so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function createCa(): { certPem: string; keyPem: string } {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 24 * 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 24 * 3600_000);
  const subject = [
    { name: 'commonName', value: 'entrasync emulator CA' },
    { name: 'organizationName', value: 'entrasync' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const privateKey = forge.pki.privateKeyFromPem(keys.privatePem);
  cert.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

function createServerCert(
  ca: { certPem: string; keyPem: string },
  names: readonly string[],
): { certPem: string; keyPem: string } {
  const keys = rsaKeyPair();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: names[0] ?? 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  for (const name of names) {
    if (isIP(name)) {
      if (name !== '127.0.0.1' && name !== '::1') altNames.push({ type: 7, ip: name });
    } else if (name !== 'localhost') {
      altNames.push({ type: 2, value: name });
    }
  }
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.privatePem };
}

/**
 * Returns TLS material for a certificate naming `names` (addresses or DNS names). The CA is reused when stateDir already holds one, so clients
 * that trust a previous run's ca.pem keep working; the server certificate is issued fresh.
 */
export function loadOrCreateTls(stateDir: string, names: readonly string[]): TlsMaterial {
  mkdirSync(stateDir, { recursive: true });
  const caFile = join(stateDir, 'ca.pem');
  const caKeyFile = join(stateDir, 'ca-key.pem');
  let ca: { certPem: string; keyPem: string };
  if (existsSync(caFile) && existsSync(caKeyFile)) {
    ca = { certPem: readFileSync(caFile, 'utf8'), keyPem: readFileSync(caKeyFile, 'utf8') };
  } else {
    ca = createCa();
    writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
    writeFileSync(caFile, ca.certPem);
  }
  const server = createServerCert(ca, names);
  return { caPem: ca.certPem, caFile, certPem: server.certPem, keyPem: server.keyPem };
}
