import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretsManagerStore } from '../../../../src/adapters/store/aws-secrets-manager/store.js';
import { storeContract } from '../../../contract/store.js';
import { useMoto } from '../../../support/aws.js';
import { fakeClock } from '../../../support/clock.js';
import { recordingLogger } from '../../../support/logger.js';

const aws = useMoto();

storeContract('aws-secrets-manager', () => {
  const clock = fakeClock(Date.now());
  return {
    clock,
    store: async (id) =>
      createSecretsManagerStore(
        id,
        { type: 'aws-secrets-manager' },
        { logger: recordingLogger(), clock, clients: aws.clients },
      ),
    corruptLock: async (id) => {
      // Not certkeeper's JSON: another tool's secret under the lock's name, or a hand edit.
      await new SecretsManagerClient({}).send(
        new CreateSecretCommand({ Name: `certkeeper/${id}.lock`, SecretString: 'not a lease' }),
      );
    },
    worker: { store: 'aws-secrets-manager' },
  };
});
