using UserService.Infrastructure;
using UserService.OpenApi;
using UserService.Users.Api;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRequestLimits();
builder.AddCallerRateLimits();
builder.AddApiDocument(UsersApi.DocumentTag);
builder.AddUsers();

var app = builder.Build();

app.UseServiceDefaults();
app.MapApiDocument();
app.MapUsersApi();

app.Run();
