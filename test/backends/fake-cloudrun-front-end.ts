/**
 * A fake of the one Cloud Run part that cannot run here: Google's front end of a service that requires
 * authentication. Like it, the fake answers 401 unless `Authorization` carries the service's ID token,
 * and otherwise forwards the request (headers and body, streamed both ways) to an instance; instances
 * take turns. The instances are real `burst worker serve` processes; a client that leaves closes the
 * forwarded request too, as it does on Cloud Run.
 */
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The fake front end and what it saw. */
export interface FakeFrontEnd {
  /** The service URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Headers of every request it forwarded to an instance. */
  forwarded: IncomingHttpHeaders[];
  /** How many requests it refused for a missing or wrong ID token. */
  refused(): number;
  close(): Promise<void>;
}

/** Starts a fake front end on 127.0.0.1 for a service whose instances are `instances`. */
export async function fakeCloudRunFrontEnd(instances: string[], idToken: string): Promise<FakeFrontEnd> {
  const forwarded: IncomingHttpHeaders[] = [];
  let refused = 0;
  let next = 0;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${idToken}`) {
      refused++;
      req.resume();
      res.writeHead(401, { 'Content-Type': 'text/html' });
      res.end('<h1>Error: Unauthorized</h1> Your client does not have permission to the requested URL.');
      return;
    }
    forwarded.push(req.headers);
    const target = new URL(req.url ?? '/', instances[next++ % instances.length]);
    const upstream = request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.flushHeaders(); // the instance answers with headers first (the calls are accepted), then the outcome
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
