// The record worker of the bundler build (`ehrchain/worker`). It listens
// before anything else (earlyScope), since the bundler instantiates the
// wasm asynchronously and messages sent meanwhile would be lost; the jobs
// are served once the package has loaded.
import { earlyScope } from "./workerboot.js";

const scope = earlyScope(self as never);
void import("./jobrunner.js").then(({ serve }) => serve(scope, Promise.resolve()));
