/**
 * result_url on this page's origin. The gateway that serves the console also
 * serves the signed downloads, and the CSP allows media only from 'self', so
 * a link minted for another host name of the same gateway (PUBLIC_BASE_URL
 * 127.0.0.1 while the page was opened as localhost) is fetched from here.
 */
export function sameOriginMedia(resultUrl: string): string {
  try {
    const u = new URL(resultUrl, location.href);
    if (u.origin === location.origin || !u.pathname.startsWith("/v1/videos/")) return u.href;
    return `${location.origin}${u.pathname}${u.search}`;
  } catch {
    return resultUrl;
  }
}
