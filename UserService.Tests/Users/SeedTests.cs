using System.Net.Http.Json;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.Users;

/// <summary>In Development an empty store starts with the original service's two users.</summary>
public sealed class SeedTests(DevelopmentUserService factory) : IClassFixture<DevelopmentUserService>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task TheOriginalServicesTwoCallsAnswerAsBefore()
    {
        using var api = factory.CreateApiClient();

        var users = await api.GetFromJsonAsync<UserDto[]>("/api/users", Cancellation);
        var first = await api.GetFromJsonAsync<UserDto>("/api/users/1", Cancellation);

        Assert.Equal(
            [(1L, "alice", "alice@example.com"), (2L, "bob", "bob@example.com")],
            users!.Select(user => (user.Id, user.Username, user.Email)));
        Assert.Equal((1L, "alice", "alice@example.com"), (first!.Id, first.Username, first.Email));
    }
}
