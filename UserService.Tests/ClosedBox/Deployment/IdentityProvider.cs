using System.Collections.Concurrent;
using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Deployment;

/// <summary>
/// An OpenID Connect provider as small as a deployment needs: discovery metadata and a JWKS over HTTPS,
/// with a certificate of its own that the caller trusts through <see cref="TrustFile"/>, and tokens signed
/// with its RSA key. A flaky one, when asked: each document's first requests answer 503
/// (<c>unavailable</c>), and the one after them answers only after <c>slow</c>.
/// </summary>
public sealed class IdentityProvider : IAsyncDisposable
{
    private readonly RSA key = RSA.Create(2048);
    private readonly string keyId = Guid.NewGuid().ToString("N");
    private readonly WebApplication app;
    private readonly ConcurrentDictionary<string, int> requests = new();

    private IdentityProvider(WebApplication app, string authority, string trustFile)
    {
        this.app = app;
        Authority = authority;
        TrustFile = trustFile;
    }

    public string Authority { get; }

    /// <summary>A PEM file with the provider's certificate, for <c>SSL_CERT_FILE</c>.</summary>
    public string TrustFile { get; }

    /// <summary>The requests each path (the metadata's, the keys') has had, answered or not.</summary>
    public int RequestsTo(string path) => requests.GetValueOrDefault(path);

    public const string MetadataPath = "/.well-known/openid-configuration";

    public const string KeysPath = "/jwks";

    public static async Task<IdentityProvider> StartAsync(string directory, int unavailable = 0, TimeSpan slow = default)
    {
        var port = FreePort.Next();
        var authority = $"https://localhost:{port}";
        using var certificate = SelfSigned();
        var trustFile = Path.Combine(directory, "identity-provider.pem");
        await File.WriteAllTextAsync(trustFile, certificate.ExportCertificatePem());

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var serving = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.UseHttps(serving)));
        var app = builder.Build();
        var provider = new IdentityProvider(app, authority, trustFile);

        app.Use(async (context, next) =>
        {
            var request = provider.requests.AddOrUpdate(context.Request.Path, 1, (_, count) => count + 1);
            if (request <= unavailable)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            if (request == unavailable + 1)
            {
                await Task.Delay(slow, context.RequestAborted);
            }

            await next(context);
        });
        app.MapGet(MetadataPath, () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = authority,
            ["jwks_uri"] = $"{authority}{KeysPath}",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet(KeysPath, () =>
        {
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(provider.key.ExportParameters(false)) { KeyId = provider.keyId });
            return Results.Json(new { keys = new[] { new { kty = jwk.Kty, use = "sig", kid = jwk.Kid, alg = "RS256", n = jwk.N, e = jwk.E } } });
        });
        await app.StartAsync(TestContext.Current.CancellationToken);
        return provider;
    }

    public string CreateToken(string audience, params string[] scopes) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Authority,
            Audience = audience,
            Subject = new ClaimsIdentity([new Claim("sub", "deployed-client"), new Claim("scope", string.Join(' ', scopes))]),
            Expires = DateTime.UtcNow.AddMinutes(10),
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = keyId }, SecurityAlgorithms.RsaSha256),
        });

    private static X509Certificate2 SelfSigned()
    {
        using var certificateKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", certificateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public async ValueTask DisposeAsync()
    {
        await app.DisposeAsync();
        key.Dispose();
    }
}
