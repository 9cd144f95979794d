using System.Collections.Concurrent;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace UserService.Tests.Infrastructure;

/// <summary>
/// Every line the AppHost logs and every line its resources (each replica included) write to their
/// consoles: to explain a start that failed, and to search for what must never be logged.
/// </summary>
public sealed class ResourceLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines;

    /// <summary>
    /// Adds itself to the AppHost's logging at Information, the level the AppHost logs at by default,
    /// whatever the test console shows.
    /// </summary>
    public static ResourceLogs AddTo(IDistributedApplicationTestingBuilder builder)
    {
        var logs = new ResourceLogs();
        builder.Services.AddLogging(logging => logging
            .AddProvider(logs)
            .AddFilter<ResourceLogs>(category: null, LogLevel.Information));
        return logs;
    }

    /// <summary>Follows the console output of every resource the application starts.</summary>
    public void Follow(DistributedApplication app)
    {
        var loggers = app.Services.GetRequiredService<ResourceLoggerService>();
        var followed = new ConcurrentDictionary<string, bool>();
        _ = Task.Run(async () =>
        {
            await foreach (var update in app.ResourceNotifications.WatchAsync())
            {
                if (followed.TryAdd(update.ResourceId, true))
                {
                    _ = Task.Run(async () =>
                    {
                        await foreach (var batch in loggers.WatchAsync(update.ResourceId))
                        {
                            foreach (var line in batch)
                            {
                                lines.Enqueue($"[{update.ResourceId}] {line.Content}");
                            }
                        }
                    });
                }
            }
        });
    }

    public override string ToString() => string.Join(Environment.NewLine, lines.TakeLast(200));

    ILogger ILoggerProvider.CreateLogger(string categoryName) => new Logger(this, categoryName);

    void IDisposable.Dispose()
    {
    }

    private sealed class Logger(ResourceLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.lines.Enqueue($"[{category}] {formatter(state, exception)} {exception}");
    }
}
