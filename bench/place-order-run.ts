/**
 * `npm run bench:place-order [-- --connections 8,32,64] [-- --duration 10] [-- --backend postgres]
 * [-- --no-fixed-rate] [-- --rate 100]`: the placeOrder section of `npm run bench` alone (bench/place-order.ts),
 * printing one line per run. `BENCH_CPU_PROF=1` with `node --cpu-prof` is how the profiles in
 * docs/benchmarks.md were taken (`tsx --cpu-prof bench/place-order-run.ts`).
 */
import { benchPlaceOrder, DEFAULT_CONNECTIONS } from "./place-order.ts";

process.env.APOLLO_TELEMETRY_DISABLED = "true";
const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const rows = await benchPlaceOrder({
  durationS: Number(option("--duration") ?? 10),
  log: (line) => console.log(line),
  connections:
    option("--connections")?.split(",").map(Number) ?? DEFAULT_CONNECTIONS,
  ...(option("--backend") ? { backends: option("--backend")!.split(",") } : {}),
  fixedRate: !args.includes("--no-fixed-rate"),
  ...(option("--rate") ? { rate: Number(option("--rate")) } : {}),
});
const broken = rows.filter(
  (row) =>
    row.pending !== 0 ||
    row.doubleCharged !== 0 ||
    row.oversold !== 0 ||
    row.confirmed !== row.placed ||
    row.captured !== row.confirmed,
);
if (broken.length > 0) {
  console.error(`inconsistent runs: ${JSON.stringify(broken)}`);
  process.exit(1);
}
process.exit(0);
