using UserService.Users.Store;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The configuration the tests give the service, written once in configuration's own form (colons):
/// in process as settings, to a process or through the AppHost as environment variables.
/// </summary>
public static class ServiceSettings
{
    /// <summary>The tests send hundreds of requests a second with one token: the limit stays out of the way.</summary>
    public const int UnlimitedRequests = 1_000_000;

    public const string Store = $"ConnectionStrings:{StoreExtensions.ConnectionName}";
    public const string ManagementPort = "Management:Port";
    public const string PermitLimit = "RateLimiting:PermitLimit";
    public const string RateLimitWindow = "RateLimiting:Window";

    /// <summary>
    /// What every test's service gets: a rate limit of <paramref name="requestsPerWindow"/>, and unless told
    /// otherwise the test tokens' issuer, audience and signing key.
    /// </summary>
    public static Dictionary<string, string> Common(int requestsPerWindow = UnlimitedRequests, bool trustTestTokens = true)
    {
        var settings = new Dictionary<string, string> { [PermitLimit] = requestsPerWindow.ToString() };
        foreach (var (key, value) in trustTestTokens ? TestTokens.ServiceSettings() : [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The same settings as environment variables (<c>Management__Port</c>).</summary>
    public static IEnumerable<KeyValuePair<string, string>> AsEnvironment(this IEnumerable<KeyValuePair<string, string>> settings) =>
        settings.Select(setting => KeyValuePair.Create(setting.Key.Replace(":", "__", StringComparison.Ordinal), setting.Value));
}
