using AppHost;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace UserService.Tests.ClosedBox.Cache;

/// <summary>
/// The container engine as a developer with Docker runs it: Redis with its data on a volume, in snapshots
/// and in an append-only file. The manifest tests cover the same for publishing.
/// </summary>
public sealed class ContainerEngineTests
{
    [Fact]
    public async Task RunModeContainerWritesAnAppendOnlyFileSyncedEverySecond()
    {
        var cancellation = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--Cache:Engine=container"], cancellation);
        await using var app = await builder.BuildAsync(cancellation);
        var cache = app.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<RedisResource>().Single(resource => resource.Name == ResourceNames.Cache);

        var args = new List<object>();
        foreach (var callback in cache.Annotations.OfType<CommandLineArgsCallbackAnnotation>())
        {
            await callback.Callback(new CommandLineArgsCallbackContext(args, cache, cancellation));
        }

        var command = string.Join(' ', args.OfType<string>());
        Assert.StartsWith("redis-server", command);
        Assert.Contains("--save 60 1", command);
        Assert.EndsWith("--appendonly yes --appendfsync always", command);
    }
}
