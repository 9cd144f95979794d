using System.Collections.Concurrent;
using System.Text;
using AppHost;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace UserService.Tests.Infrastructure;

/// <summary>The console output of the cache and the user service, kept to explain a start that failed.</summary>
public sealed class ResourceLogs
{
    private readonly ConcurrentQueue<string> lines = new();

    public static ResourceLogs Capture(DistributedApplication app)
    {
        var logs = new ResourceLogs();
        var service = app.Services.GetRequiredService<ResourceLoggerService>();
        foreach (var name in new[] { ResourceNames.Cache, ResourceNames.UserService })
        {
            _ = Task.Run(async () =>
            {
                await foreach (var batch in service.WatchAsync(name))
                {
                    foreach (var line in batch)
                    {
                        logs.lines.Enqueue($"[{name}] {line.Content}");
                    }
                }
            });
        }

        return logs;
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var line in lines.TakeLast(200))
        {
            text.AppendLine(line);
        }

        return text.ToString();
    }
}
