using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>
/// Signing keys follow configuration while the service runs, as when <c>dotnet user-jwts</c> creates,
/// resets or removes one: a new key is trusted and a removed one refused within seconds, without a restart.
/// </summary>
public sealed class SigningKeyChangeTests(GarnetStoreServer store)
{
    private const string Bearer = "Authentication:Schemes:Bearer:";

    // The framework takes one key per issuer, so the key that comes and goes has an issuer of its own.
    private const string Issuer = "rotating-issuer";
    private static readonly TimeSpan ChangeBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task KeyAddedWhileRunningIsTrustedAndRemovedIsRefused()
    {
        var keys = new ChangingSettings();
        await using var factory = new GarnetUserService(store);
        await factory.InitializeAsync();
        using var service = factory.WithWebHostBuilder(builder => builder.ConfigureAppConfiguration(configuration => configuration.Add(keys)));
        using var client = service.CreateClient();
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var api = client.Authorize(TestTokens.Create(issuer: Issuer, signingKey: key));
        var before = await Eventually.StatusAsync(api, "/api/users?limit=1", _ => true, ChangeBound);

        keys.Set(new()
        {
            [Bearer + "ValidIssuers:5"] = Issuer,
            [Bearer + "SigningKeys:5:Issuer"] = Issuer,
            [Bearer + "SigningKeys:5:Value"] = key,
        });
        var added = await Eventually.StatusAsync(api, "/api/users?limit=1", status => status == HttpStatusCode.OK, ChangeBound);
        keys.Set(new() { [Bearer + "ValidIssuers:5"] = Issuer });
        var removed = await Eventually.StatusAsync(api, "/api/users?limit=1", status => status == HttpStatusCode.Unauthorized, ChangeBound);

        Assert.Equal(HttpStatusCode.Unauthorized, before);
        Assert.Equal(HttpStatusCode.OK, added);
        Assert.Equal(HttpStatusCode.Unauthorized, removed);
    }

    /// <summary>Settings that change while the service runs and announce it, as a watched file does.</summary>
    private sealed class ChangingSettings : ConfigurationProvider, IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

        public void Set(Dictionary<string, string?> settings)
        {
            Data = new Dictionary<string, string?>(settings, StringComparer.OrdinalIgnoreCase);
            OnReload();
        }
    }
}
