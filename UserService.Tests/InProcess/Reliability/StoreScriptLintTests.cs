using System.Reflection;
using UserService.Tests.Infrastructure;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// Every Lua script the service sends to its store, checked by luacheck as Redis runs it (Lua 5.1, with
/// <c>redis</c>, <c>KEYS</c> and <c>ARGV</c> the only globals): a misspelt local reads as a global nil in
/// Redis, which no other test sees until the branch that uses it runs. The scripts are the constants whose
/// names end in <c>Script</c>.
/// </summary>
public sealed class StoreScriptLintTests
{
    [Fact]
    public async Task EveryStoreScriptPassesLuacheckWithOnlyRedisGlobals()
    {
        Engines.RequireProgram("luacheck", "lua-check");
        var scripts = typeof(StoreLayout).Assembly.GetTypes()
            .SelectMany(type => type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(field => field.IsLiteral && field.FieldType == typeof(string) && field.Name.EndsWith("Script", StringComparison.Ordinal))
            .ToDictionary(field => $"{field.DeclaringType!.Name}.{field.Name}", field => (string)field.GetRawConstantValue()!);
        var directory = Directory.CreateTempSubdirectory("userservice-lua-");
        try
        {
            foreach (var (name, script) in scripts)
            {
                await File.WriteAllTextAsync(Path.Combine(directory.FullName, name + ".lua"), script, TestContext.Current.CancellationToken);
            }

            var (exitCode, report) = await LuacheckAsync(directory.FullName);

            Assert.True(scripts.Count >= 20, $"Found only these scripts: {string.Join(", ", scripts.Keys)}");
            Assert.True(exitCode == 0, report);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Runs luacheck on every script in <paramref name="directory"/>. The functions a script shares with others
    /// (the claim's, the deadline's, the insert's) may go unused in one of them.
    /// </summary>
    private static Task<(int ExitCode, string Output)> LuacheckAsync(string directory) =>
        ProgramRun.RunAsync("luacheck",
        [
            "--std", "lua51", "--no-color", "--globals", "redis", "KEYS", "ARGV", "--no-max-line-length", "--codes",
            "--ignore", "211/now", "211/claim", "211/owner", "211/age", "211/late", "--", directory,
        ]);
}
