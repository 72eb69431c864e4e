// The record worker of the no-bundler build (`ehrchain/web/worker`): it
// listens at once (earlyScope), fetches and instantiates the .wasm next to
// it, then serves jobs.
import { earlyScope } from "./workerboot.js";

const scope = earlyScope(self as never);
void import("./glue.js").then(async (glue) => {
  const { serve } = await import("./jobrunner.js");
  serve(scope, glue.default());
});
