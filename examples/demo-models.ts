/**
 * Which demo model server serves which model version of the example config. `npm start`
 * and the e2e suite start them from here; a deployment points the config at real servers.
 */
export interface DemoModelSpec {
  /** Script under examples/models that serves the protocol. */
  script: string;
  args: string[];
}

export const demoModels: Readonly<Record<string, DemoModelSpec>> = {
  'sentiment@v1': {
    script: 'examples/models/sentiment/server.ts',
    args: ['--method', 'lexicon', '--model-name', 'sentiment', '--model-version', 'v1'],
  },
  'sentiment@v2': {
    script: 'examples/models/sentiment/server.ts',
    args: ['--method', 'naive-bayes', '--model-name', 'sentiment', '--model-version', 'v2'],
  },
  'tinylm@v1': {
    script: 'examples/models/textgen/server.ts',
    args: ['--model-name', 'tinylm', '--model-version', 'v1'],
  },
  'tinylm@v2': {
    script: 'examples/models/textgen/server.ts',
    args: ['--model-name', 'tinylm', '--model-version', 'v2'],
  },
  // The same tinylm under a second model name: a gateway with two OpenAI models.
  'tinychat@v1': {
    script: 'examples/models/textgen/server.ts',
    args: ['--model-name', 'tinychat', '--model-version', 'v1'],
  },
  // Like MLServer 1.7 with a scikit-learn model: metadata with `outputs: []`, the binary tensor extension accepted.
  'iris-v2@v1': {
    script: 'examples/models/mlserver-like/server.ts',
    args: ['--model-name', 'iris-v2', '--model-version', 'v1'],
  },
  // Healthy, but its metadata endpoint does not know this name (404): a version whose signature can't be read.
  'nometa@v1': {
    script: 'examples/models/mlserver-like/server.ts',
    args: ['--model-name', 'iris-v2', '--model-version', 'v1'],
  },
  'iris@1': {
    script: 'examples/models/tfserving/server.ts',
    args: ['--model-name', 'iris', '--model-version', '1'],
  },
};
