import { request as httpsRequest } from 'node:https';

/** Signs in over https to a server whose certificate `caPem` issued; the answer's status and headers. */
export function signInOverHttps(
  url: URL,
  caPem: string,
  credentials: { email: string; password: string },
): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: url.hostname,
        port: url.port,
        path: '/api/v1/auth/login',
        method: 'POST',
        ca: caPem,
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(credentials));
  });
}
