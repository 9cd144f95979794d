namespace Bench;

/// <summary>
/// What the service's own logs say about a run. A request that failed with an exception of the service's
/// own (a 500) is a bug at any load, however few there were: the error rate in the report cannot show one
/// lost among millions, so the logs are read for them.
/// </summary>
internal static class ServiceLogs
{
    /// <summary>The category the exception handler logs a request's unhandled exception under.</summary>
    private const string UnhandledException = "\"Category\":\"Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware\"";

    /// <summary>The service logs written since <paramref name="since"/> that hold unhandled exceptions, and how many each holds.</summary>
    public static IReadOnlyList<(string Log, int Exceptions)> UnhandledExceptions(string logDirectory, DateTime since) =>
    [
        .. Directory.EnumerateFiles(logDirectory, "userservice*.log")
            .Where(log => File.GetLastWriteTimeUtc(log) >= since)
            .Select(log => (Path.GetFileName(log), File.ReadLines(log).Count(line => line.Contains(UnhandledException, StringComparison.Ordinal))))
            .Where(found => found.Item2 > 0)
            .Order(),
    ];
}
