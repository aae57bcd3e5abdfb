import { writeFileSync } from 'node:fs';
import { printedSchema } from '../src/schema/index.js';

// schema.graphql is generated: edit src/schema/ and run `npm run schema`.
writeFileSync(new URL('../schema.graphql', import.meta.url), printedSchema());
console.log('wrote schema.graphql');
