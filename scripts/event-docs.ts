/** `npm run events:docs`: writes docs/events.md from events/contracts.ts. */
import { writeFileSync } from "node:fs";
import { renderEventDocs } from "../events/contracts.ts";

writeFileSync("docs/events.md", renderEventDocs());
console.log("Wrote docs/events.md.");
