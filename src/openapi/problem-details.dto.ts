import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FieldProblem, ProblemDetails } from '../contract/problem';

export class FieldErrorDto implements FieldProblem {
  @ApiProperty({ description: 'The field, e.g. `key` or `keys[2]`; "an unknown field" when its name is not a plain identifier', example: 'key' })
  field!: string;

  @ApiProperty({ description: 'The rule it breaks (never its value)', example: 'must be upper snake case' })
  message!: string;
}

/** RFC 9457 problem details: the body of every error (SPEC §3), whatever raised it. */
export class ProblemDetailsDto implements ProblemDetails {
  @ApiProperty({ description: 'A URI naming the kind of problem', example: 'urn:secrets-ledger:problem:not-found' })
  type!: string;

  @ApiProperty({ description: "The status code's reason phrase", example: 'Not Found' })
  title!: string;

  @ApiProperty({ type: 'integer', example: 404 })
  status!: number;

  @ApiProperty({ description: 'What went wrong, in words; never a value or any part of the request body', example: 'No secret FIFTYONE_CVAT_URL.' })
  detail!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Per field, for invalid input (400)' })
  errors?: FieldErrorDto[];
}
