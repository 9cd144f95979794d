using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using UserService.Infrastructure;
using UserService.Users.Caching;
using UserService.Users.Store;

namespace UserService.Tests.InProcess.Reliability;

/// <summary>
/// The options are validated by validators generated at build time, not by reflection: each still refuses a
/// value out of its range, a time span as much as a number, and accepts its defaults.
/// </summary>
public sealed class OptionsValidationTests
{
    public static TheoryData<string, Func<ValidateOptionsResult>, Func<ValidateOptionsResult>> Options => new()
    {
        { "Management:Port", () => new ManagementOptionsValidator().Validate(null, new ManagementOptions { Port = 80 }), () => new ManagementOptionsValidator().Validate(null, new ManagementOptions { Port = 0 }) },
        { "RateLimiting:Window", () => new RateLimitingOptionsValidator().Validate(null, new RateLimitingOptions()), () => new RateLimitingOptionsValidator().Validate(null, new RateLimitingOptions { Window = TimeSpan.Zero }) },
        { "RateLimiting:PermitLimit", () => new RateLimitingOptionsValidator().Validate(null, new RateLimitingOptions()), () => new RateLimitingOptionsValidator().Validate(null, new RateLimitingOptions { PermitLimit = 0 }) },
        { "Store:Replication:Timeout", () => new StoreReplicationOptionsValidator().Validate(null, new StoreReplicationOptions()), () => new StoreReplicationOptionsValidator().Validate(null, new StoreReplicationOptions { Timeout = TimeSpan.FromSeconds(5) }) },
        { "Store:Repair:Lease", () => new StoreRepairOptionsValidator().Validate(null, new StoreRepairOptions()), () => new StoreRepairOptionsValidator().Validate(null, new StoreRepairOptions { Lease = TimeSpan.Zero }) },
        { "Store:Migration:Pause", () => new StoreMigrationOptionsValidator().Validate(null, new StoreMigrationOptions()), () => new StoreMigrationOptionsValidator().Validate(null, new StoreMigrationOptions { Pause = TimeSpan.FromMinutes(1) }) },
        { "Caching:MaxBytesPerWindow", () => new CachingOptionsValidator().Validate(null, new CachingOptions()), () => new CachingOptionsValidator().Validate(null, new CachingOptions { MaxBytesPerWindow = -1 }) },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void GeneratedValidatorAcceptsTheDefaultsAndRefusesAValueOutOfRange(string option, Func<ValidateOptionsResult> valid, Func<ValidateOptionsResult> invalid)
    {
        Assert.True(valid().Succeeded, option);
        Assert.True(invalid().Failed, option);
    }
}
