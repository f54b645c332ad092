// The OpenID provider of the site's sign-in tests: node-oidc-provider (OpenID
// Certified), configured from the environment by fabrique_testkit::oidc:
//   OIDC_PORT, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI, and OIDC_ACCOUNTS,
//   a JSON object { login: { email, email_verified, name, roles } }.
// Its development login and consent pages stand in for a real login form: any
// password is accepted for a known login. Prints "listening <issuer>" once ready.
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'roles'],
  },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) {
      return undefined;
    }
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['fabrique-tests-only'] },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
