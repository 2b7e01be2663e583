import { Module } from '@nestjs/common';
import { SecretsModule } from '../secrets/secrets.module';
import { SecretExpiry } from './secret-expiry';

/** Secrets past or near their expiry, for readiness and the metrics. */
@Module({
  imports: [SecretsModule],
  providers: [SecretExpiry],
  exports: [SecretExpiry],
})
export class ExpiryModule {}
