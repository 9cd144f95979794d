using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The user service in process, on a database of its own in one engine's store server. The environment
/// is not Development, so nothing is seeded unless a test asks for it.
/// </summary>
// Any type of the service's assembly names it; Program is ambiguous, since the AppHost has one too.
public class UserServiceFactory(StoreServer store) : WebApplicationFactory<UserService.Users.Store.UserStore>, IAsyncLifetime
{
    private string connectionString = "";

    /// <summary>
    /// The service's store, for tests that reach past the API; skips the test (or fails it, in CI) where the
    /// engine is missing.
    /// </summary>
    public string StoreConnectionString
    {
        get
        {
            Engines.RequireInstalled(store.Engine);
            return connectionString;
        }
    }

    /// <summary>The environment the service runs in.</summary>
    protected virtual string Environment => "Testing";

    /// <summary>Whether the service is told the test tokens' issuer, audience and signing key.</summary>
    protected virtual bool TrustsTestTokens => true;

    /// <summary>Requests one caller may make per second: out of the way, unless a test is about the limit.</summary>
    protected virtual int RequestsPerWindow => ServiceSettings.UnlimitedRequests;

    /// <summary>The rate limit's window, where a test needs another than the service's second.</summary>
    protected virtual TimeSpan? RequestWindow => null;

    public async ValueTask InitializeAsync()
    {
        if (Engines.IsInstalled(store.Engine))
        {
            connectionString = await store.ClaimEmptyDatabaseAsync();
        }
    }

    /// <summary>
    /// A client for the API with a token that grants every scope; skips the test (or fails it, in CI) where
    /// the engine is missing.
    /// </summary>
    public HttpClient CreateApiClient()
    {
        Engines.RequireInstalled(store.Engine);
        return CreateClient().Authorize();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.UseSetting(ServiceSettings.Store, connectionString);
        // Any port the test server never uses: management endpoints stay unreachable here, as on a public port.
        builder.UseSetting(ServiceSettings.ManagementPort, "65535");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in ServiceSettings.Common(RequestsPerWindow, TrustsTestTokens))
        {
            builder.UseSetting(key, value);
        }

        if (RequestWindow is { } window)
        {
            builder.UseSetting(ServiceSettings.RateLimitWindow, window.ToString("c"));
        }
    }
}

public sealed class GarnetUserService(GarnetStoreServer store) : UserServiceFactory(store);

public sealed class RedisServerUserService(RedisStoreServer store) : UserServiceFactory(store);

/// <summary>The service with a limit of three requests per caller and minute.</summary>
public sealed class RateLimitedUserService(GarnetStoreServer store) : UserServiceFactory(store)
{
    public const int Limit = 3;

    protected override int RequestsPerWindow => Limit;

    protected override TimeSpan? RequestWindow => TimeSpan.FromMinutes(1);
}

/// <summary>
/// The service on redis-server with a day-long rate-limit window: a caller's first request takes the day's
/// slice of permits from the store, and its limiter writes nothing after that. With the service's second,
/// the first request of each new second writes, and a store that pauses writes holds back what that
/// request reads next on the same connection.
/// </summary>
public sealed class QuietLimiterUserService(RedisStoreServer store) : UserServiceFactory(store)
{
    protected override TimeSpan? RequestWindow => TimeSpan.FromDays(1);
}

/// <summary>The service deployed without saying which tokens to trust.</summary>
public sealed class UnconfiguredUserService(GarnetStoreServer store) : UserServiceFactory(store)
{
    protected override bool TrustsTestTokens => false;
}

/// <summary>The service as a developer runs it, where an empty store gets seeded.</summary>
public sealed class DevelopmentUserService(GarnetStoreServer store) : UserServiceFactory(store)
{
    protected override string Environment => "Development";
}

/// <summary>The service with its store out of reach: nothing listens where the connection string points.</summary>
public sealed class StoreDownUserService(GarnetStoreServer store) : UserServiceFactory(store)
{
    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting(ServiceSettings.Store, $"127.0.0.1:{FreePort.Next()},abortConnect=false");
    }
}
