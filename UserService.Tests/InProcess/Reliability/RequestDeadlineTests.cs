using System.Diagnostics;
using System.Net.Http.Json;
using System.Reflection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// One deadline for each request covers all its store calls. With every store answer 0.6 s late, well within
/// the Redis client's own timeout, a create's calls in turn would take about 2.4 s, and a refused create under
/// an Idempotency-Key's about 3 s; each answers 503 within the 2 s a caller waits at most instead, saying
/// what became of it.
/// </summary>
public sealed class RequestDeadlineTests(RequestDeadlineTests.Service factory) : IClassFixture<RequestDeadlineTests.Service>
{
    private static readonly TimeSpan Promised = TimeSpan.FromSeconds(2);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CreateWhoseStoreAnswersAreEachLateAnswers503WithinTwoSeconds()
    {
        using var api = factory.CreateApiClient();
        await api.CreateAsync(TestUsers.Unique());

        var (response, took) = await factory.WhileSlowAsync(() => api.PostAsJsonAsync("/api/users", TestUsers.Unique(), Cancellation));

        using (response)
        {
            Assert.True(took <= Promised, $"The create answered {(int)response.StatusCode} after {took.TotalMilliseconds:N0} ms.");
            await ProblemAssert.IsUnavailableWriteAsync(response, "unknown");
        }
    }

    [Fact]
    public async Task RefusedCreateUnderAKeyWhoseStoreAnswersAreEachLateAnswers503WithinTwoSeconds()
    {
        using var api = factory.CreateApiClient();
        var (_, taken) = await api.CreateAsync(TestUsers.Unique());
        using (await api.PostOnceAsync(TestUsers.Unique() with { Username = taken.Username }, Guid.NewGuid().ToString()))
        {
        }

        var (response, took) = await factory.WhileSlowAsync(() => api.PostOnceAsync(TestUsers.Unique() with { Username = taken.Username }, Guid.NewGuid().ToString()));

        using (response)
        {
            Assert.True(took <= Promised, $"The create answered {(int)response.StatusCode} after {took.TotalMilliseconds:N0} ms.");
            await ProblemAssert.IsUnavailableWriteAsync(response, "not-applied");
        }
    }

    /// <summary>The service on redis-server, whose store can be made to answer each call late.</summary>
    public sealed class Service(RedisStoreServer store) : UserServiceFactory(store)
    {
        public static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(600);

        private volatile bool slow;

        /// <summary>A day-long window: the rate limiter takes its slice from the store before the store is slow.</summary>
        protected override TimeSpan? RequestWindow => TimeSpan.FromDays(1);

        /// <summary>Sends a request while every store call answers <see cref="Latency"/> late, and times it.</summary>
        public async Task<(HttpResponseMessage Response, TimeSpan Took)> WhileSlowAsync(Func<Task<HttpResponseMessage>> send)
        {
            slow = true;
            try
            {
                var watch = Stopwatch.StartNew();
                var response = await send();
                return (response, watch.Elapsed);
            }
            finally
            {
                slow = false;
            }
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
                StoreClientProxy.Replace(services, inner => StoreClientProxy.Wrap<IConnectionMultiplexer, LateStore>(inner, late => late.Slow = () => slow)));
        }
    }

    /// <summary>
    /// The service's Redis client, whose databases' calls answer <see cref="Service.Latency"/> late while
    /// <see cref="Slow"/> says so.
    /// </summary>
    public class LateStore : StoreClientProxy
    {
        public Func<bool> Slow { get; set; } = () => false;

        protected override object? Invoke(MethodInfo? method, object?[]? args) => Forward(method!, args) switch
        {
            IDatabase database => Wrap<IDatabase, LateStore>(database, late => late.Slow = Slow),
            Task task when Slow() && method!.ReturnType.IsGenericType =>
                typeof(LateStore).GetMethod(nameof(LateAsync), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(method.ReturnType.GetGenericArguments()[0]).Invoke(null, [task]),
            var result => result,
        };

        private static async Task<TResult> LateAsync<TResult>(Task<TResult> call)
        {
            var result = await call;
            await Task.Delay(Service.Latency);
            return result;
        }
    }
}
