import path from 'node:path';
import { writeKeyPair } from './keygen.mjs';

// `npm run keys [dir]`: adds a signing key pair, by default to keys/.
const dir = path.resolve(process.argv[2] ?? 'keys');
writeKeyPair(dir).then(
  ({ kid, privateFile, publicFile }) => {
    process.stdout.write(
      `New signing key ${kid}\n  private: ${privateFile} (mode 0600, never commit it)\n  public:  ${publicFile}\n`,
    );
  },
  (error) => {
    process.stderr.write(`Could not write a key pair into ${dir}: ${error.message}\n`);
    process.exit(1);
  },
);
