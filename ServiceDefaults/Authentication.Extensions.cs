using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

public static partial class Extensions
{
    private const string BearerSection = "Authentication:Schemes:Bearer";

    /// <summary>The factory's client that fetches the identity provider's metadata and keys.</summary>
    public const string BackchannelClient = "identity-provider";

    /// <summary>
    /// JWT bearer authentication configured from <c>Authentication:Schemes:Bearer</c>: <c>Authority</c> and
    /// <c>ValidAudiences</c> for an identity provider, or the issuer, audiences and signing keys that
    /// <c>dotnet user-jwts</c> writes in Development. Every endpoint requires an authenticated caller unless
    /// it says otherwise.
    /// </summary>
    private static TBuilder AddDefaultAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme)
            // Claims keep the names the token gives them ("sub", "scope"), not the WS-Federation URIs.
            .AddJwtBearer(options => options.MapInboundClaims = false);

        // The identity provider's metadata and signing keys are fetched with a client from the factory, not the
        // handler's own: the standard resilience pipeline retries a provider that fails or answers slowly (at
        // start, at a key rotation) instead of leaving every token refused until the handler looks again
        // minutes later; service discovery resolves an Authority named after a resource; and the fetches show
        // in the outgoing-call metrics and traces.
        builder.Services.AddHttpClient(BackchannelClient);
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IHttpClientFactory>((options, clients) =>
            {
                var backchannel = clients.CreateClient(BackchannelClient);
                backchannel.Timeout = options.BackchannelTimeout;
                backchannel.MaxResponseContentBufferSize = 10 * 1024 * 1024;
                options.Backchannel = backchannel;
            });

        // The options are built again whenever configuration changes, so that a key that dotnet user-jwts
        // creates, resets or removes while the service runs (its secrets file is watched) takes effect
        // within a second, without a restart. Without this the options would be built once, for good.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IOptionsChangeTokenSource<JwtBearerOptions>>(
            new ConfigurationChangeTokenSource<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, builder.Configuration.GetSection(BearerSection)));

        // Whatever the configuration left out, issuer, audience, lifetime and signature are all checked:
        // a service without an issuer or an audience configured refuses every token rather than any.
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .PostConfigure<TimeProvider>((options, time) =>
            {
                var validation = options.TokenValidationParameters;
                validation.ValidateIssuer = true;
                validation.ValidateAudience = true;
                validation.ValidateLifetime = true;
                validation.ValidateIssuerSigningKey = true;
                validation.RequireExpirationTime = true;
                validation.RequireSignedTokens = true;
                validation.ClockSkew = TimeSpan.FromSeconds(30);

                // Keys from configuration (SigningKeys, as dotnet user-jwts writes them) arrive as a lazy
                // sequence that reads configuration and builds new key objects for every token, which also
                // defeats the cache of signature providers: read them once per configuration change. Keys
                // from an Authority are fetched and cached by its metadata instead.
                validation.IssuerSigningKeys = validation.IssuerSigningKeys?.ToArray();

                // Each distinct token is validated once a minute at most rather than on every request; these
                // options, and so the caches, are built anew when the configured keys change.
                var caches = options.TokenHandlers.Select(handler => new ValidatedTokenCache(handler, time)).ToList();
                options.TokenHandlers.Clear();
                caches.ForEach(options.TokenHandlers.Add);

                // A token the caches know is answered as soon as the request arrives: before the handler copies
                // the validation parameters and records the token's dates for the request, work that a token
                // validated a moment ago does not need.
                var received = options.Events.OnMessageReceived;
                options.Events.OnMessageReceived = async context =>
                {
                    await received(context);
                    if (context.Result is not null || BearerToken(context.Request) is not { Length: > 0 } token)
                    {
                        return;
                    }

                    foreach (var cache in caches)
                    {
                        if (cache.Identity(token.Span) is { } identity)
                        {
                            context.Principal = new ClaimsPrincipal(identity);
                            context.Success();
                            return;
                        }
                    }
                };
            })
            .Validate(
                options => HasIssuer(options) && HasAudience(options),
                "Authentication:Schemes:Bearer needs an issuer (Authority, ValidIssuer or ValidIssuers) and an audience (Audience, ValidAudience or ValidAudiences).")
            .ValidateOnStart();

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());

        return builder;
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, read as the JWT bearer handler reads it.</summary>
    private static ReadOnlyMemory<char> BearerToken(HttpRequest request)
    {
        const string Scheme = "Bearer ";
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            ? authorization.AsMemory(Scheme.Length).Trim()
            : ReadOnlyMemory<char>.Empty;
    }

    /// <summary>Requires a token that grants <paramref name="scope"/>.</summary>
    public static AuthorizationPolicyBuilder RequireScope(this AuthorizationPolicyBuilder policy, string scope) =>
        policy.RequireAuthenticatedUser().RequireAssertion(context => HasScope(context.User, scope));

    /// <summary>
    /// Scopes arrive as one "scope" claim per value (dotnet user-jwts), as one space-separated "scope" claim
    /// (OAuth 2.0), or as "scp" (Microsoft Entra ID).
    /// </summary>
    private static bool HasScope(ClaimsPrincipal user, string scope)
    {
        // Asked on every request: read in place, without splitting the values into strings.
        foreach (var identity in user.Identities)
        {
            foreach (var claim in identity.Claims)
            {
                if (claim.Type is not ("scope" or "scp"))
                {
                    continue;
                }

                foreach (var range in claim.Value.AsSpan().Split(' '))
                {
                    if (claim.Value.AsSpan()[range].SequenceEqual(scope))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static bool HasIssuer(JwtBearerOptions options) =>
        !string.IsNullOrEmpty(options.Authority)
        || !string.IsNullOrEmpty(options.TokenValidationParameters.ValidIssuer)
        || options.TokenValidationParameters.ValidIssuers?.Any() == true;

    private static bool HasAudience(JwtBearerOptions options) =>
        !string.IsNullOrEmpty(options.Audience)
        || !string.IsNullOrEmpty(options.TokenValidationParameters.ValidAudience)
        || options.TokenValidationParameters.ValidAudiences?.Any() == true;
}
