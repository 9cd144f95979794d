using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>Every call carries a valid token from the configured issuer for this audience, with the scope it needs.</summary>
public sealed class AuthenticationTests(GarnetUserService factory, GarnetStoreServer store) : IClassFixture<GarnetUserService>
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> Operations => new()
    {
        { "GET", "/api/users" },
        { "GET", "/api/users/1" },
        { "POST", "/api/users" },
        { "PUT", "/api/users/1" },
        { "DELETE", "/api/users/1" },
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task CallWithoutATokenAnswersUnauthorizedWithAChallenge(string method, string path)
    {
        using var response = await SendAsync(method, path, token: null);

        await AssertRejectedAsync(response, expectInvalidToken: false);
    }

    [Fact]
    public async Task ExpiredTokenIsRejected()
    {
        using var response = await SendAsync("GET", "/api/users", TestTokens.Create(expires: DateTime.UtcNow.AddMinutes(-5)));

        await AssertRejectedAsync(response);
    }

    [Fact]
    public async Task TokenSignedWithAnotherKeyIsRejected()
    {
        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        using var response = await SendAsync("GET", "/api/users", TestTokens.Create(signingKey: otherKey));

        await AssertRejectedAsync(response);
    }

    [Fact]
    public async Task TokenForAnotherAudienceIsRejected()
    {
        using var response = await SendAsync("GET", "/api/users", TestTokens.Create(audience: "https://another-service.example.com"));

        await AssertRejectedAsync(response);
    }

    [Fact]
    public async Task TokenFromAnotherIssuerIsRejected()
    {
        using var response = await SendAsync("GET", "/api/users", TestTokens.Create(issuer: "https://another-issuer.example.com"));

        await AssertRejectedAsync(response);
    }

    [Fact]
    public async Task UnsignedTokenIsRejected()
    {
        var signed = TestTokens.Create();
        var unsigned = string.Join('.', signed.Split('.')[..2]) + ".";

        using var response = await SendAsync("GET", "/api/users", unsigned);

        await AssertRejectedAsync(response);
    }

    [Theory]
    [InlineData("POST", "/api/users")]
    [InlineData("PUT", "/api/users/1")]
    [InlineData("DELETE", "/api/users/1")]
    public async Task WriteWithOnlyTheReadScopeIsForbidden(string method, string path)
    {
        using var response = await SendAsync(method, path, TestTokens.Create(scopes: ["users:read"]));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("/api/users")]
    [InlineData("/api/users/1")]
    public async Task ReadWithOnlyTheWriteScopeIsForbidden(string path)
    {
        using var response = await SendAsync("GET", path, TestTokens.Create(scopes: ["users:write"]));

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ScopesInOneSpaceSeparatedClaimAreHonoured()
    {
        using var response = await SendAsync("GET", "/api/users", TestTokens.Create(scopes: ["users:write users:read"]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task TokenValidatedAMomentAgoIsAnsweredFromMemoryWithAnIdentityOfItsOwnForEachRequest()
    {
        var options = factory.Services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        var token = TestTokens.Create(subject: $"early-{Guid.NewGuid():N}");

        var beforeValidation = await ReceiveAsync(options, $"Bearer {token}");
        var validated = await options.TokenHandlers.Single().ValidateTokenAsync(token, options.TokenValidationParameters);
        var first = await ReceiveAsync(options, $"Bearer {token}");
        var second = await ReceiveAsync(options, $"bearer   {token} ");
        var altered = await ReceiveAsync(options, $"Bearer {token[..^2]}{(token[^2] == 'A' ? 'B' : 'A')}{token[^1]}");
        var otherScheme = await ReceiveAsync(options, $"Basic {token}");

        Assert.True(validated.IsValid);
        Assert.Null(beforeValidation.Result);
        Assert.True(first.Result?.Succeeded);
        Assert.True(second.Result?.Succeeded);
        Assert.Equal(validated.ClaimsIdentity.FindFirst("sub")?.Value, first.Principal?.FindFirst("sub")?.Value);
        Assert.NotSame(first.Principal!.Identity, second.Principal!.Identity);
        Assert.Null(altered.Result);
        Assert.Null(otherScheme.Result);
    }

    /// <summary>What the bearer handler's first event decides for a request with this Authorization header.</summary>
    private async Task<MessageReceivedContext> ReceiveAsync(JwtBearerOptions options, string authorization)
    {
        var http = new DefaultHttpContext { RequestServices = factory.Services };
        http.Request.Headers.Authorization = authorization;
        var context = new MessageReceivedContext(http, new AuthenticationScheme(JwtBearerDefaults.AuthenticationScheme, null, typeof(JwtBearerHandler)), options);
        await options.Events.MessageReceived(context);
        return context;
    }

    [Fact]
    public async Task ApiDocumentNeedsNoToken()
    {
        using var response = await SendAsync("GET", "/openapi/v1.json", token: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ServiceThatIsNotToldWhichTokensToTrustRefusesToStart()
    {
        await using var unconfigured = new UnconfiguredUserService(store);
        await unconfigured.InitializeAsync();

        var error = Assert.Throws<OptionsValidationException>(() => unconfigured.CreateClient());

        Assert.Contains("Authentication:Schemes:Bearer", error.Message);
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string? token)
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(TestUsers.Unique());
        }

        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request, Cancellation);
    }

    private static async Task AssertRejectedAsync(HttpResponseMessage response, bool expectInvalidToken = true)
    {
        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
        var challenge = Assert.Single(response.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        if (expectInvalidToken)
        {
            Assert.Contains("error=\"invalid_token\"", challenge.Parameter);
        }
    }
}
