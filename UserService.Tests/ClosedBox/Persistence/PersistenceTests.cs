using System.Net;
using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.ClosedBox.Persistence;

/// <summary>A local engine keeps its data in the data directory, so users outlive the AppHost.</summary>
public sealed class PersistenceTests
{
    [Theory]
    [MemberData(nameof(Engines.Local), MemberType = typeof(Engines))]
    public async Task UserCreatedBeforeAnAppHostRestartIsThereAfterIt(string engine)
    {
        Engines.RequireInstalled(engine);
        var dataDirectory = Directory.CreateTempSubdirectory("userservice-persistence-").FullName;
        var password = Convert.ToHexString(Guid.NewGuid().ToByteArray());
        var cancellation = TestContext.Current.CancellationToken;

        try
        {
            UserDto created;
            await using (var first = await RunningAppHost.StartAsync(engine, dataDirectory, password, cancellationToken: cancellation))
            {
                using var api = first.CreateApiClient();
                (_, created) = await api.CreateAsync(TestUsers.Unique());
            }

            await using var second = await RunningAppHost.StartAsync(engine, dataDirectory, password, cancellationToken: cancellation);
            using var restartedApi = second.CreateApiClient();
            using var response = await restartedApi.GetAsync($"/api/users/{created.Id}", cancellation);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(created, await response.Content.ReadFromJsonAsync<UserDto>(cancellation));
        }
        finally
        {
            await RunningAppHost.DeleteDirectoryAsync(dataDirectory);
        }
    }
}
