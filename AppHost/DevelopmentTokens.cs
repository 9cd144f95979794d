using System.Diagnostics;

namespace AppHost;

/// <summary>
/// A dashboard command on the user service that creates a development token, so that a newcomer can call
/// the API without leaving the dashboard: the same <c>dotnet user-jwts</c> command the README gives.
/// </summary>
public static class DevelopmentTokens
{
    public const string CommandName = "create-development-token";

    /// <summary>Generous for a first run, which builds nothing but may restore a tool; a hung one is stopped.</summary>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(1);

    public static IResourceBuilder<ProjectResource> WithDevelopmentTokenCommand(this IResourceBuilder<ProjectResource> service, params string[] scopes)
    {
        if (!service.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            return service;
        }

        return service.WithCommand(
            CommandName,
            "Create a development token",
            async context =>
            {
                string[] arguments =
                [
                    "user-jwts", "create", "--project", service.Resource.GetProjectMetadata().ProjectPath,
                    .. scopes.SelectMany(scope => new[] { "--scope", scope }),
                    "--output", "token",
                ];
                var (exitCode, output) = await RunDotnetAsync(arguments, context.CancellationToken);

                return exitCode == 0
                    ? CommandResults.Success(
                        $"A bearer token with {string.Join(" and ", scopes)}: send it as 'Authorization: Bearer <token>'.",
                        output.Trim(),
                        CommandResultFormat.Text,
                        displayImmediately: true)
                    : CommandResults.Failure($"dotnet user-jwts failed (exit code {exitCode}): {output}");
            },
            new CommandOptions
            {
                Description = "Creates a JWT for this service with dotnet user-jwts.",
                IconName = "Key",
                UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running
                    ? ResourceCommandState.Enabled
                    : ResourceCommandState.Disabled,
            });
    }

    private static async Task<(int ExitCode, string Output)> RunDotnetAsync(IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken).WaitAsync(CommandTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"it did not finish within {CommandTimeout.TotalSeconds:0} s.");
        }

        return (process.ExitCode, process.ExitCode == 0 ? await output : await error + await output);
    }
}
