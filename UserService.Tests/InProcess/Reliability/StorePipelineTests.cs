using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.Testing;
using Polly.Timeout;
using StackExchange.Redis;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>Store calls go through a circuit breaker, which opens on store failures and on nothing else, around a timeout.</summary>
public sealed class StorePipelineTests(GarnetUserService factory) : IClassFixture<GarnetUserService>
{
    private ResiliencePipeline Pipeline =>
        factory.Services.GetRequiredService<ResiliencePipelineProvider<string>>().GetPipeline(StoreResilience.PipelineName);

    [Fact]
    public void PipelineIsACircuitBreakerAroundATimeoutWithTheDocumentedSettings()
    {
        var strategies = Pipeline.GetPipelineDescriptor().Strategies;

        Assert.Equal(2, strategies.Count);
        var breaker = Assert.IsType<CircuitBreakerStrategyOptions>(strategies[0].Options);
        Assert.Equal(StoreResilience.BreakDuration, breaker.BreakDuration);
        Assert.Equal(0.5, breaker.FailureRatio);
        Assert.Equal(TimeSpan.FromSeconds(5), breaker.SamplingDuration);
        var timeout = Assert.IsType<TimeoutStrategyOptions>(strategies[1].Options);
        Assert.Equal(StoreResilience.CommandTimeout, timeout.Timeout);
    }

    [Fact]
    public async Task BreakerOpensAfterRedisFailuresAndThenFailsFastWithoutCallingTheStore()
    {
        var pipeline = Pipeline;
        for (var i = 0; i < 4; i++)
        {
            await Assert.ThrowsAsync<RedisConnectionException>(async () => await pipeline.ExecuteAsync<int>(
                _ => throw new RedisConnectionException(ConnectionFailureType.SocketFailure, "store down"), TestContext.Current.CancellationToken));
        }

        var called = false;
        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await pipeline.ExecuteAsync(_ =>
        {
            called = true;
            return ValueTask.FromResult(0);
        }, TestContext.Current.CancellationToken));
        Assert.False(called);
    }

    [Fact]
    public async Task FailuresThatAreNotAboutTheStoreDoNotCount()
    {
        var breaker = Assert.IsType<CircuitBreakerStrategyOptions>(Pipeline.GetPipelineDescriptor().Strategies[0].Options);
        var context = ResilienceContextPool.Shared.Get(TestContext.Current.CancellationToken);

        var handlesTimeout = await breaker.ShouldHandle(new CircuitBreakerPredicateArguments<object>(
            context, Outcome.FromException<object>(new RedisTimeoutException("slow", CommandStatus.Sent))));
        var handlesDeadline = await breaker.ShouldHandle(new CircuitBreakerPredicateArguments<object>(
            context, Outcome.FromException<object>(new TimeoutRejectedException())));
        var handlesBug = await breaker.ShouldHandle(new CircuitBreakerPredicateArguments<object>(
            context, Outcome.FromException<object>(new InvalidDataException("corrupt document"))));

        Assert.True(handlesTimeout);
        Assert.True(handlesDeadline);
        Assert.False(handlesBug);
    }
}
