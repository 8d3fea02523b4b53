/**
 * bench:sends' bare hop: a pass-through proxy with no gate logic in a process of its own, forwarding
 * each POST to Graph on a keep-alive pool as the gate does. What one extra process hop costs on this
 * machine, so the gate's own cost can be told apart from the hop's. Prints its port; runs until SIGTERM.
 *
 *   tsx bench/sends-hop.ts <graph url>
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const graph = new Pool(process.argv[2], { connections: 256, keepAliveTimeout: 10_000 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    graph
      .request({
        method: 'POST',
        path: req.url ?? '/',
        headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
        body: Buffer.concat(chunks),
      })
      .then(async (answer) => {
        const body = Buffer.from(await answer.body.arrayBuffer());
        res.writeHead(answer.statusCode, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
      })
      .catch(() => res.writeHead(502).end());
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` }));
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void graph.close().then(() => process.exit(0));
});
