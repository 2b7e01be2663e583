import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AdminUiModule } from './admin-ui/admin-ui.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ChangesModule } from './changes/changes.module';
import { ValidationError, fieldNameFromRequest } from './common/errors';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { ConfigModule } from './config/config.module';
import type { AppConfig } from './config/configuration';
import { EventStoreModule } from './event-store/event-store.module';
import { HealthModule } from './health/health.module';
import { MasterKeysModule } from './master-keys/master-keys.module';
import { MetricsModule } from './metrics/metrics.module';
import { NatsModule } from './nats/nats.module';
import { ResolveModule } from './resolve/resolve.module';
import { SecretsModule } from './secrets/secrets.module';
import { DatabaseModule } from './storage/database.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        EventStoreModule,
        AuthModule,
        SecretsModule,
        ResolveModule,
        HealthModule,
        AdminUiModule,
        NatsModule,
        ChangesModule,
        AuditModule,
        MetricsModule,
        MasterKeysModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            forbidUnknownValues: true,
            exceptionFactory: (errors) =>
              new ValidationError(
                'The request body is invalid.',
                errors.flatMap((e) =>
                  // An unknown member's name came from the client, and class-validator's message
                  // repeats it: both are replaced (SPEC §3). Known members' messages name only them.
                  e.constraints?.whitelistValidation !== undefined
                    ? [{ field: fieldNameFromRequest(e.property), message: 'is not allowed' }]
                    : Object.values(e.constraints ?? { invalid: 'is invalid' }).map((message) => ({ field: e.property, message })),
                ),
              ),
          }),
        },
      ],
    };
  }
}
