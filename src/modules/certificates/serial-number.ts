/**
 * The one spelling of a serial number Warden stores and compares: lower-case hex of the DER integer's bytes,
 * without leading zero bytes. Accepts what people and tools print (`openssl x509 -serial` gives
 * `serial=0A1B…`, browsers `0a:1b:…`, Node's TLS peer certificate upper case).
 */
export function canonicalSerial(text: string): string {
  const hex = text
    .trim()
    .replace(/^serial=/i, '')
    .replaceAll(':', '')
    .toLowerCase()
    .replace(/^0+/, '');
  if (hex === '') return '00';
  return hex.length % 2 === 1 ? `0${hex}` : hex;
}

/** A SHA-256 fingerprint as lower-case hex without separators (Node prints `AB:CD:…`). */
export function canonicalFingerprint(text: string): string {
  return text.replaceAll(':', '').toLowerCase();
}
