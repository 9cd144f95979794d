using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace UserService.Tests.Infrastructure;

/// <summary>The API's user as a client sees it.</summary>
public sealed record UserDto(long Id, string Username, string Email, string? DisplayName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record NewUser(string Username, string Email, string? DisplayName = null);

public static class TestUsers
{
    /// <summary>A user no other test can have created.</summary>
    public static NewUser Unique(string? displayName = null)
    {
        var username = $"u-{Guid.NewGuid():N}"[..20];
        return new NewUser(username, $"{username}@example.com", displayName);
    }

    public static async Task<(HttpResponseMessage Response, UserDto User)> CreateAsync(this HttpClient api, NewUser user)
    {
        var response = await api.PostAsJsonAsync("/api/users", user, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<UserDto>(TestContext.Current.CancellationToken);
        return (response, created!);
    }
}

/// <summary>The RFC 9457 fields the tests read.</summary>
public sealed record ProblemDto(
    [property: JsonPropertyName("type")] string? Type,
    [property: JsonPropertyName("title")] string? Title,
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("detail")] string? Detail);

public sealed record ValidationProblemDto(
    [property: JsonPropertyName("status")] int? Status,
    [property: JsonPropertyName("errors")] Dictionary<string, string[]> Errors);
