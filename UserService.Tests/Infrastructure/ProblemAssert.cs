using System.Net;
using System.Net.Http.Json;

namespace UserService.Tests.Infrastructure;

public static class ProblemAssert
{
    /// <summary>Asserts an RFC 9457 answer with <paramref name="status"/> in both the status line and the body.</summary>
    public static async Task<ProblemDto> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDto>(TestContext.Current.CancellationToken);
        Assert.NotNull(problem);
        Assert.Equal((int)status, problem.Status);
        Assert.False(string.IsNullOrEmpty(problem.Title));
        return problem;
    }

    /// <summary>Asserts a 400 validation problem that names exactly <paramref name="fields"/>, spelled as in JSON.</summary>
    public static async Task IsValidationProblemAsync(HttpResponseMessage response, params string[] fields)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDto>(TestContext.Current.CancellationToken);
        Assert.Equal(fields.Order(StringComparer.Ordinal), problem!.Errors.Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Asserts a write's 503: problem details, a Retry-After, and the <c>outcome</c> member that tells a client
    /// whether the write may have landed.
    /// </summary>
    public static async Task IsUnavailableWriteAsync(HttpResponseMessage response, string outcome)
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(TestContext.Current.CancellationToken);
        Assert.Equal(outcome, (string?)problem?["outcome"]);
    }
}
