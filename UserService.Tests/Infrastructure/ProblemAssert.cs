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
}
