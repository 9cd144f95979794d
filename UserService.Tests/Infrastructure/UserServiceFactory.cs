using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

[assembly: AssemblyFixture(typeof(UserService.Tests.Infrastructure.GarnetProcess))]

namespace UserService.Tests.Infrastructure;

/// <summary>
/// The user service in process, on a database of its own in the shared Garnet server. The environment is
/// not Development, so nothing is seeded unless a test asks for it.
/// </summary>
// Any type of the service's assembly names it; Program is ambiguous, since the AppHost has one too.
public class UserServiceFactory(GarnetProcess garnet) : WebApplicationFactory<UserService.Users.UserStore>, IAsyncLifetime
{
    private string connectionString = "";

    /// <summary>The environment the service runs in.</summary>
    protected virtual string Environment => "Testing";

    public async ValueTask InitializeAsync() => connectionString = await garnet.ClaimEmptyDatabaseAsync();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        builder.UseSetting("ConnectionStrings:cache", connectionString);
        // Any port the test server never uses: management endpoints stay unreachable here, as on a public port.
        builder.UseSetting("Management:Port", "65535");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }
}

/// <summary>The service as a developer runs it, where an empty store gets seeded.</summary>
public sealed class DevelopmentUserServiceFactory(GarnetProcess garnet) : UserServiceFactory(garnet)
{
    protected override string Environment => "Development";
}
