import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Generates typed documents for the dashboard from the printed SDL.
 * Run `npm run codegen` after `npm run schema:print` or after changing an operation in web/src.
 */
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['web/src/**/*.ts', '!web/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'web/src/gql/': {
      preset: 'client',
      presetConfig: {
        // Views read the fields of a spread fragment directly; the fragment types stay exported.
        fragmentMasking: false,
      },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        // The root tsconfig resolves modules as NodeNext, which needs `.js` on relative imports.
        emitLegacyCommonJSImports: false,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
