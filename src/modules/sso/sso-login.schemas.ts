import { Type } from 'typebox';

/** The enabled providers, for the sign-in page (no secrets, nothing about their configuration). */
export const SignInProvidersSchema = Type.Array(
  Type.Object({
    name: Type.String({ description: 'The URL segment of its sign-in routes' }),
    displayName: Type.String({ description: 'What the button says: "Sign in with <displayName>"' }),
  }),
);

export const ProviderParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });

export const StartQuery = Type.Object(
  {
    returnTo: Type.Optional(
      Type.String({
        maxLength: 2000,
        description:
          'Where to land after signing in: a path on this origin (anything else, e.g. `https://…` or `//…`, lands on `/`)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The provider's answer: `code`, `state`, `iss`, or `error` with its description; read as a whole. */
export const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    state: Type.Optional(Type.String({ maxLength: 1024 })),
    error: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: true },
);

export const Redirect = Type.Null({ description: 'A redirect (`Location`)' });

/** Logout of a session that a single sign-on started, at a provider with an end-session endpoint. */
export const EndSessionSchema = Type.Object({
  endSessionUrl: Type.String({
    description:
      "Send the browser here to sign out at the SSO provider too (RP-initiated logout); it comes back to the console's sign-in page",
  }),
});
