using System.Net;
using System.Net.Http.Json;
using System.Text;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>
/// Requests the service refuses before they reach the store: route constraints, query bounds, body shape and
/// field rules. Each engine would give the same answers, so these run on one.
/// </summary>
public sealed class RequestValidationTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    private HttpClient Api => field ??= factory.CreateApiClient();

    [Theory]
    [InlineData("abc")]
    [InlineData("99999999999999999999")]
    [InlineData("1.5")]
    public async Task IdThatIsNotA64BitIntegerAnswersNotFound(string id)
    {
        using var response = await Api.GetAsync($"/api/users/{id}", Cancellation);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("after=-1", "after")]
    public async Task PageParametersOutOfRangeAnswerAValidationProblem(string query, string field)
    {
        using var response = await Api.GetAsync($"/api/users?{query}", Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, field);
    }

    [Theory]
    [InlineData("limit=ten")]
    [InlineData("after=x")]
    [InlineData("after=99999999999999999999")]
    public async Task PageParametersThatAreNotNumbersAnswerBadRequestProblem(string query)
    {
        using var response = await Api.GetAsync($"/api/users?{query}", Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task InvalidFieldsAnswerAValidationProblemNamingEachOne()
    {
        using var response = await Api.PostAsJsonAsync("/api/users",
            new { username = "No Spaces", email = "not-an-address", displayName = new string('x', 101) }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "username", "email", "displayName");
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("Alice")]
    [InlineData("al ice")]
    [InlineData("al\u0000ice")]
    [InlineData("")]
    public async Task UsernameOutsideTheRulesIsRefused(string username)
    {
        using var response = await Api.PostAsJsonAsync("/api/users", new { username, email = $"{Guid.NewGuid():N}@example.com" }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "username");
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("two@@example.com")]
    [InlineData("Name <name@example.com>")]
    [InlineData("name@localhost")]
    [InlineData("spa ce@example.com")]
    public async Task EmailThatIsNotASingleAddressIsRefused(string email)
    {
        using var response = await Api.PostAsJsonAsync("/api/users", new { username = TestUsers.Unique().Username, email }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "email");
    }

    [Fact]
    public async Task EmailLongerThan254CharactersIsRefused()
    {
        var email = new string('a', 64) + "@" + new string('b', 186) + ".com";

        using var response = await Api.PostAsJsonAsync("/api/users", new { username = TestUsers.Unique().Username, email }, Cancellation);

        await ProblemAssert.IsValidationProblemAsync(response, "email");
    }

    [Theory]
    [InlineData("id", "1")]
    [InlineData("createdAt", "\"2020-01-01T00:00:00Z\"")]
    [InlineData("isAdmin", "true")]
    public async Task PropertyAClientMayNotSetIsRefused(string property, string json)
    {
        var user = TestUsers.Unique();
        var body = $$"""{"username":"{{user.Username}}","email":"{{user.Email}}","{{property}}":{{json}}}""";

        using var response = await Api.PostAsync("/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Empty((await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={user.Username}", Cancellation))!);
    }

    [Theory]
    [InlineData("{\"username\":")]
    [InlineData("[]")]
    [InlineData("{\"username\":1,\"email\":true}")]
    public async Task BodyThatIsNotAUserAnswersBadRequestProblem(string body)
    {
        using var response = await Api.PostAsync("/api/users", new StringContent(body, Encoding.UTF8, "application/json"), Cancellation);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ReplaceWithInvalidFieldsAnswersAValidationProblem()
    {
        var (created, etag) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, new NewUser("x", "y"), etag);

        await ProblemAssert.IsValidationProblemAsync(response, "username", "email");
    }

    [Theory]
    [InlineData("W/\"1\"")]
    [InlineData("garbage")]
    public async Task ReplaceWithAWeakOrMalformedETagAnswersPreconditionFailedAndChangesNothing(string ifMatch)
    {
        var (created, _) = await Api.CreateWithETagAsync();

        using var response = await Api.ReplaceUserAsync(created.Id, TestUsers.Unique(), ifMatch);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.PreconditionFailed);
        Assert.Equal(created, await Api.GetFromJsonAsync<UserDto>($"/api/users/{created.Id}", Cancellation));
    }

    public static TheoryData<string> MalformedIdempotencyKeys => ["has space", "ключ", new string('k', 256)];

    [Theory]
    [MemberData(nameof(MalformedIdempotencyKeys))]
    public async Task IdempotencyKeyOutsideItsRulesAnswersAValidationProblemAndCreatesNothing(string key)
    {
        var user = TestUsers.Unique();

        using var response = await Api.PostOnceAsync(user, key);

        await ProblemAssert.IsValidationProblemAsync(response, "idempotencyKey");
        Assert.Empty((await Api.GetFromJsonAsync<UserDto[]>($"/api/users?username={user.Username}", Cancellation))!);
    }
}
