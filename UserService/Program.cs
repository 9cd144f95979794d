using UserService.Users;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRedisClient(connectionName: "cache");
builder.Services.AddProblemDetails();
builder.AddUsers();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapUsersApi();

app.Run();

/// <summary>The entry point, visible to the in-process tests.</summary>
public partial class Program;
