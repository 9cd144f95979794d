using AppHost;
using Microsoft.Extensions.Hosting;
using UserService.Users;
using UserService.Users.Store;

namespace UserService.Tests.InProcess;

/// <summary>
/// The AppHost cannot reference the service's code, so it names what it relies on in the service itself
/// (<see cref="UserServiceContract"/>). These checks keep the two sides of each name in step.
/// </summary>
public sealed class AppHostAgreementTests
{
    [Fact]
    public void CacheResourceIsNamedAsTheConnectionStringTheServiceReads() =>
        Assert.Equal(ResourceNames.Cache, StoreExtensions.ConnectionName);

    [Fact]
    public void TokenCommandGrantsExactlyTheScopesTheApiChecks() =>
        Assert.Equal([UsersScopes.Read, UsersScopes.Write], UserServiceContract.Scopes);

    [Fact]
    public void HealthCheckProbesTheServiceReadinessEndpoint() =>
        Assert.Equal(Extensions.HealthEndpointPath, UserServiceContract.HealthPath);
}
