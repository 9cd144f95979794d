using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Contract;

/// <summary>
/// What a client that trusts the API document, and validates from it, meets: the service refuses exactly
/// what the document refuses, counts as it counts, and answers with the members the document says it has.
/// Each case here is one a fuzzer and a hand review found where the two disagreed.
/// </summary>
public sealed class DocumentTruthTests(ContractServices services) : IClassFixture<ContractServices>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("CreateUser")]
    [InlineData("UpdateUser")]
    public async Task EmailThatTheServiceValidatesAsAMailboxIsDocumentedWithTheEmailFormat(string operationId)
    {
        var document = await services.DocumentAsync();

        Assert.Equal("email", document.BodyMemberFormat(operationId, "email"));
    }

    [Fact]
    public async Task EveryTagAnOperationCarriesIsDescribed()
    {
        var document = await services.DocumentAsync();

        Assert.NotEmpty(document.Tags);
        Assert.All(document.Tags, tag => Assert.False(string.IsNullOrWhiteSpace(tag.Description), $"The tag {tag.Tag} has no description."));
    }

    [Theory]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public async Task DisplayNameLengthIsCountedInCharactersAsTheDocumentCountsThem(int emoji, bool fits)
    {
        var document = await services.DocumentAsync();
        var user = TestUsers.Unique() with { DisplayName = string.Concat(Enumerable.Repeat("😀", emoji)) };

        using var response = await services.Send(HttpMethod.Post, "/api/users", JsonContent.Create(user));

        Assert.Equal(fits, document.BodyErrors("CreateUser", JsonSerializerNode(user)) == "");
        if (fits)
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        else
        {
            await ProblemAssert.IsValidationProblemAsync(response, "displayName");
        }
    }

    [Theory]
    [InlineData("a\u0085b")]
    [InlineData("a\u009Fb")]
    [InlineData("a\u007Fb")]
    [InlineData("a\nb")]
    [InlineData("a\u0000b")]
    public async Task DisplayNameWithAControlCharacterIsRefusedByTheDocumentAsByTheService(string displayName)
    {
        var document = await services.DocumentAsync();
        var user = TestUsers.Unique() with { DisplayName = displayName };

        using var response = await services.Send(HttpMethod.Post, "/api/users", JsonContent.Create(user));

        Assert.NotEqual("", document.BodyErrors("CreateUser", JsonSerializerNode(user)));
        await ProblemAssert.IsValidationProblemAsync(response, "displayName");
    }

    [Theory]
    [InlineData("CreateUser")]
    [InlineData("UpdateUser")]
    [InlineData("DeleteUser")]
    public async Task WritesUnavailableAnswerDocumentsTheOutcomeMemberAClientRetriesBy(string operationId)
    {
        var document = await services.DocumentAsync();

        var withoutOutcome = document.ResponseErrors(operationId, 503, new JsonObject { ["title"] = "Store unavailable", ["status"] = 503 });
        var withOutcome = document.ResponseErrors(operationId, 503, new JsonObject { ["title"] = "Store unavailable", ["status"] = 503, ["outcome"] = "unknown" });
        var otherOutcome = document.ResponseErrors(operationId, 503, new JsonObject { ["title"] = "Store unavailable", ["status"] = 503, ["outcome"] = "maybe" });

        Assert.NotEqual("", withoutOutcome);
        Assert.Equal("", withOutcome);
        Assert.NotEqual("", otherOutcome);
    }

    [Theory]
    [InlineData("GetUser", "GET", "/api/users/abc")]
    [InlineData("GetUser", "GET", "/api/users/9223372036854775808")]
    [InlineData("UpdateUser", "PUT", "/api/users/%23")]
    [InlineData("DeleteUser", "DELETE", "/api/users/1.5")]
    public async Task IdThatIsNoIntegerAnswersTheDocumented404WithItsErrorMember(string operationId, string method, string path)
    {
        var document = await services.DocumentAsync();

        using var response = await services.Send(new HttpMethod(method), path, method == "PUT" ? JsonContent.Create(TestUsers.Unique()) : null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await document.AssertConformsAsync(operationId, response);
    }

    [Theory]
    [InlineData("username")]
    [InlineData("email")]
    public async Task EmptySearchIsRefusedAsTheDocumentSays(string parameter)
    {
        var document = await services.DocumentAsync();

        using var response = await services.Send(HttpMethod.Get, $"/api/users?{parameter}=");

        Assert.NotEqual("", document.ParameterErrors("ListUsers", parameter, ""));
        await ProblemAssert.IsValidationProblemAsync(response, parameter);
    }

    [Theory]
    [InlineData("POST", "/api/users", """{"username":"ann","email":"ann@example.com","role":"admin"}""", "role")]
    [InlineData("POST", "/api/users", """{"username":"ann","username":"bob","email":"ann@example.com"}""", "username")]
    [InlineData("POST", "/api/users", """{"username":"ann","email":7}""", "email")]
    [InlineData("PUT", "/api/users/1", """{"username":"ann","email":"ann@example.com","id":5}""", "id")]
    [InlineData("GET", "/api/users?after=9223372036854775808", null, "after")]
    [InlineData("GET", "/api/users?limit=ten", null, "limit")]
    public async Task RequestThatCannotBeReadNamesTheFieldAtFault(string method, string path, string? body, string field)
    {
        using var response = await services.Send(new HttpMethod(method), path, body is null ? null : Bodies.Json(body));

        await ProblemAssert.IsValidationProblemAsync(response, field);
    }

    /// <summary>The body as <see cref="JsonContent"/> sends it.</summary>
    private static JsonNode JsonSerializerNode(NewUser user) => JsonSerializer.SerializeToNode(user, JsonSerializerOptions.Web)!;
}
