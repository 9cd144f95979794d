using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Security;

/// <summary>An unexpected failure answers 500 problem details with a trace id, and nothing of its cause.</summary>
public sealed class ErrorDisclosureTests(GarnetStoreServer store)
{
    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, "text/html")]
    public async Task ExceptionInAHandlerAnswersAProblemWithoutItsDetailsWhateverTheCallerAccepts(bool development, string? accept)
    {
        await using UserServiceFactory service = development ? new DevelopmentUserService(store) : new GarnetUserService(store);
        await service.InitializeAsync();
        // A clock that fails makes the create handler throw: a bug, as far as the caller can tell.
        using var broken = service.WithWebHostBuilder(builder =>
            builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(new BrokenClock())));
        using var api = broken.CreateClient().Authorize();
        if (accept is not null)
        {
            api.DefaultRequestHeaders.Accept.ParseAdd(accept);
        }

        using var response = await api.PostAsJsonAsync("/api/users", TestUsers.Unique(), TestContext.Current.CancellationToken);

        var problem = await ProblemAssert.IsProblemAsync(response, HttpStatusCode.InternalServerError);
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("\"traceId\"", body);
        Assert.DoesNotContain("Exception", body);
        Assert.DoesNotContain("clock", body);
        Assert.DoesNotContain(" at ", body);
        Assert.DoesNotContain("UserStore", body);
        Assert.Null(problem.Detail);
    }

    private sealed class BrokenClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => throw new InvalidOperationException("The clock is broken.");
    }
}
