using System.Text.Json.Nodes;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Users;

/// <summary>
/// The OpenAPI document describes every operation's security and every constraint; the statuses, headers
/// and bodies are checked against live answers by the contract tests.
/// </summary>
public sealed class OpenApiTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/api/users", "get", "users:read")]
    [InlineData("/api/users/{id}", "get", "users:read")]
    [InlineData("/api/users", "post", "users:write")]
    [InlineData("/api/users/{id}", "put", "users:write")]
    [InlineData("/api/users/{id}", "delete", "users:write")]
    public async Task OperationDeclaresTheBearerSchemeAndItsScope(string path, string method, string scope)
    {
        var document = await DocumentAsync();

        var requirement = Assert.Single(document["paths"]![path]![method]!["security"]!.AsArray())!.AsObject();
        var (scheme, scopes) = Assert.Single(requirement);
        Assert.Equal("Bearer", scheme);
        Assert.Equal([scope], scopes!.AsArray().Select(node => (string?)node));
        Assert.Equal("bearer", (string?)document["components"]!["securitySchemes"]!["Bearer"]!["scheme"]);
    }

    [Fact]
    public async Task RequestSchemaCarriesTheFieldConstraints()
    {
        var document = await DocumentAsync();

        var properties = document["components"]!["schemas"]!["UserRequest"]!["properties"]!;
        Assert.Equal(3, (int?)properties["username"]!["minLength"]);
        Assert.Equal(32, (int?)properties["username"]!["maxLength"]);
        Assert.Equal("^[a-z0-9._-]+$", (string?)properties["username"]!["pattern"]);
        Assert.Equal(254, (int?)properties["email"]!["maxLength"]);
        Assert.Equal(1, (int?)properties["email"]!["minLength"]);
        Assert.Equal("email", (string?)properties["email"]!["format"]);
        Assert.Equal(100, (int?)properties["displayName"]!["maxLength"]);
        Assert.Equal(["email", "username"], document["components"]!["schemas"]!["UserRequest"]!["required"]!.AsArray().Select(n => (string?)n).Order());
    }

    [Fact]
    public async Task PageSizeParameterCarriesItsRange()
    {
        var document = await DocumentAsync();

        var limit = document["paths"]!["/api/users"]!["get"]!["parameters"]!.AsArray().Single(p => (string?)p!["name"] == "limit")!;
        Assert.Equal(1, (int?)limit["schema"]!["minimum"]);
        Assert.Equal(1000, (int?)limit["schema"]!["maximum"]);
    }

    [Fact]
    public async Task IdsAreIntegersAndTheCursorIsBoundedByTheInt64Maximum()
    {
        var document = await DocumentAsync();

        var id = document["components"]!["schemas"]!["UserResponse"]!["properties"]!["id"]!;
        var after = document["paths"]!["/api/users"]!["get"]!["parameters"]!.AsArray().Single(p => (string?)p!["name"] == "after")!["schema"]!;
        Assert.Equal("integer", (string?)id["type"]);
        Assert.Equal("integer", (string?)after["type"]);
        Assert.Equal(long.MaxValue, (long?)after["maximum"]);
        Assert.Equal(0, (long?)after["minimum"]);
    }

    [Fact]
    public async Task DocumentNamesTheServiceAndTheRepositorysLicense()
    {
        var info = (await DocumentAsync())["info"]!;

        Assert.Equal("User service", (string?)info["title"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)info["description"]));
        Assert.Equal("MIT", (string?)info["license"]!["identifier"]);
        Assert.Null(info["license"]!["url"]);
    }

    private async Task<JsonNode> DocumentAsync()
    {
        using var api = factory.CreateClient();
        return JsonNode.Parse(await api.GetStringAsync("/openapi/v1.json", Cancellation))!;
    }
}
