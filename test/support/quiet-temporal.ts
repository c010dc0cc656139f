import { DefaultLogger, Runtime } from '@temporalio/worker';

// Each test file gets its own module registry, and with it its own Temporal Runtime: keep the SDK's
// INFO chatter (bundles built, workers started) out of the test output; warnings and errors still show.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // A Runtime exists already in this registry.
}
