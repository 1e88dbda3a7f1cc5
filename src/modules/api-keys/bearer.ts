/**
 * The credential of an `Authorization: Bearer <key>` header (the scheme is case-insensitive, RFC 9110), or null
 * when the request carries no bearer credential. What follows the scheme is checked by the API keys service.
 */
export function bearerCredential(header: string | undefined): string | null {
  if (header === undefined || !/^bearer(\s|$)/i.test(header)) return null;
  return header.slice('bearer'.length).trim();
}
