// `bun tests/swarm/main.ts down`: what the swarm pass made removed (the one-node stack,
// its secrets and volume, the swarm; the nodes of the several-node swarm, their registry,
// network and volumes) — the pass's step after its tests, also when they were cut short.
import { teardownNodes } from "./nodes.ts";
import { teardown } from "./swarm.ts";

const [command] = process.argv.slice(2);
if (command !== "down") {
  console.error("usage: bun tests/swarm/main.ts down");
  process.exit(2);
}
await teardown((line) => console.log(`[swarm] ${line}`));
await teardownNodes((line) => console.log(`[swarm-nodes] ${line}`));
