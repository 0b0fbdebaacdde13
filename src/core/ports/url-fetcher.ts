// The UrlFetcher port: fetches user-given URLs safely (file import). Implemented by
// lib/url-download.ts.

export interface Download {
  body: AsyncIterable<Uint8Array>;
  contentLength: number | undefined;
  abort(): void;
}

/**
 * Fetches user-given URLs. `check` refuses what may not be fetched (scheme, loopback/private/
 * metadata addresses) with an Error whose message says why and what to do; the returned opener
 * connects to the address that was checked.
 */
export interface UrlFetcher {
  check(url: string): Promise<() => Promise<Download>>;
}
